/**
 * The layers of src/, top to bottom. A folder imports only from folders below it, and no two
 * files import each other, not even for types (tsPreCompilationDeps counts `import type`).
 * `npm run lint:deps` checks it; `npm test` runs that first.
 */
const LAYERS = ['cli', 'demo', 'daemon', 'http', 'metrics', 'runner', 'notify', 'webhooks', 'deploy', 'mirror', 'vcs', 'runtime', 'proxy', 'store', 'config', 'lib'];

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `${layer}/ may import only from ${LAYERS.slice(i + 2).join(', ') || 'nothing in src'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(0, i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'files must not import each other, directly or around a loop', severity: 'error', from: {}, to: { circular: true } },
    { name: 'known-layer', comment: `every file under src/ is in one of: ${LAYERS.join(', ')}`, severity: 'error', from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/` }, to: {} },
    ...upward,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
