// Files the build does not compile go beside the built modules that read them: the dashboard's static files (plain JS and CSS), the allow_ips presets.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/config/ip-presets.json', import.meta.url), new URL('../dist/config/ip-presets.json', import.meta.url));
cpSync(new URL('../src/http/dashboard/static/', import.meta.url), new URL('../dist/http/dashboard/static/', import.meta.url), { recursive: true });
