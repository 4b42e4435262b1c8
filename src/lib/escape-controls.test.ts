import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControls, escapeLines } from './escape-controls.js';

test('control characters are shown escaped, tabs and ordinary text kept, nothing dropped', () => {
  assert.equal(escapeControls('\x1b]0;t\x07\x1b[2J\ta\r\nb\x00\x7f'), '\\x1b]0;t\\x07\\x1b[2J\ta\\r\\nb\\x00\\x7f');
  assert.equal(escapeControls('\u009b2J \u202eevil\u2066 \u2028'), '\\u009b2J \\u202eevil\\u2066 \\u2028');
  assert.equal(escapeControls('héllo — 日本 C:\\path ✓'), 'héllo — 日本 C:\\path ✓');
  assert.equal(escapeLines('file: 2 problems:\n  - a\x1b[2J\n  - b'), 'file: 2 problems:\n  - a\\x1b[2J\n  - b');
});
