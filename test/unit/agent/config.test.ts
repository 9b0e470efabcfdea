/** The config file holds the agent's secret: written 0600, refused when others can read it. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentConfig, configPath, readConfig, writeConfig } from '../../../agent/config.ts';
import { AgentConfigError } from '../../../agent/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-agent-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config: AgentConfig = {
  url: 'https://gateway.example/prod',
  agentId: 'ag-1',
  credential: 'ag-1.secret',
  labels: ['lab'],
  name: 'host',
  workDir: '/var/lib/kiln-agent',
};

describe('agent config', () => {
  it('is written 0600 in a 0700 folder and read back', () => {
    const path = join(dir, 'nested', 'config.json');
    writeConfig(path, config);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
    expect(readConfig(path)).toEqual(config);
  });

  it('tightens an existing file it rewrites', () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, '{}', { mode: 0o644 });
    writeConfig(path, config);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it.each([0o640, 0o604, 0o644])('refuses a config of mode %o, saying the chmod to run', (mode) => {
    const path = join(dir, 'config.json');
    writeConfig(path, config);
    chmodSync(path, mode);
    expect(() => readConfig(path)).toThrow(AgentConfigError);
    expect(() => readConfig(path)).toThrow(`run \`chmod 600 ${path}\``);
  });

  it('says to register when the file is missing, and names a malformed one', () => {
    expect(() => readConfig(join(dir, 'none.json'))).toThrow(/kiln-agent register/);
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ url: 'x' }), { mode: 0o600 });
    expect(() => readConfig(path)).toThrow(/is not a kiln-agent config \(url: /);
    expect(readFileSync(path, 'utf8')).toContain('"x"');
  });

  it('is found by flag, then KILN_AGENT_CONFIG, then ~/.config', () => {
    expect(configPath('/a.json', { KILN_AGENT_CONFIG: '/b.json' })).toBe('/a.json');
    expect(configPath(undefined, { KILN_AGENT_CONFIG: '/b.json' })).toBe('/b.json');
    expect(configPath(undefined, {})).toMatch(/\.config\/kiln-agent\/config\.json$/);
  });
});
