import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { REPOSITORY_ROOT } from '../helpers/processes.js';

/** The launchers that cannot import the flags spell them out; each must have all of them. */
test('every launcher of a node passes the node flags', () => {
  const read = (path: string): string => readFileSync(join(REPOSITORY_ROOT, path), 'utf8');
  const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const launchers: Record<string, string> = {
    'npm start': packageJson.scripts.start as string,
    'docker ENTRYPOINT': read('docker/Dockerfile').split('\n')
      .find((line) => line.startsWith('ENTRYPOINT')) ?? '',
    'bin/ringkv-server.js': read('bin/ringkv-server.js').split('\n')[0] as string,
  };
  for (const [launcher, command] of Object.entries(launchers)) {
    for (const flag of SERVER_NODE_FLAGS) {
      assert.ok(command.includes(flag), `${launcher} lacks ${flag}: ${command}`);
    }
  }
});
