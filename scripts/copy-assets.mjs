// The dashboard's static files (plain JS and CSS, not compiled) go beside the built module that serves them.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/http/dashboard/static/', import.meta.url), new URL('../dist/http/dashboard/static/', import.meta.url), { recursive: true });
