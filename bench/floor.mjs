// The floor of the ingest benchmark: a bare fastify server (the framework autopull uses) whose
// one route reads the body as a Buffer and answers a small JSON object; nothing checked, nothing
// stored. `node bench/floor.mjs PORT`; listens on 127.0.0.1 only.
import Fastify from 'fastify';

const app = Fastify();
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/hooks/:id', async (req) => ({ ok: true, bytes: req.body.length }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
