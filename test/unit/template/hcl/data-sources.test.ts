/** Data sources: unknown offline, resolved through LoadOptions.resolvers, secrets recorded for redaction. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHclTemplate } from '../../../../core/frontends/hcl/index.ts';
import { hasErrors } from '../../../../core/template/diagnostics.ts';
import { type Config, type Resolvers, UnknownValue } from '../../../../core/template/model.ts';

const TEMPLATE = `
data "amazon-ami" "ubuntu" {
  filters = {
    name = "ubuntu/images/*-\${local.release}-*"
  }
  owners      = ["099720109477"]
  most_recent = true
}

data "amazon-parameterstore" "token" {
  name            = "/kiln/token"
  with_decryption = true
}

data "amazon-secretsmanager" "db" {
  name = "db-password"
  key  = "password"
}

data "http" "other" {
  url = "https://example.com"
}

locals {
  release = "jammy"
  ami     = data.amazon-ami.ubuntu.id
}

source "amazon-ebs" "x" {
  source_ami = local.ami
  user_data  = "\${data.amazon-parameterstore.token.value}:\${data.amazon-secretsmanager.db.value}"
  note       = data.http.other.body
}

build {
  sources = ["source.amazon-ebs.x"]
}
`;

async function load(resolvers?: Resolvers) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-data-'));
  writeFileSync(join(dir, 'main.pkr.hcl'), TEMPLATE);
  return loadHclTemplate('main.pkr.hcl', { cwd: dir, ...(resolvers ? { resolvers } : {}) });
}

describe('data sources', () => {
  it('are unknown offline; an unknown type is a warning', async () => {
    const r = await load();
    expect(hasErrors(r.diagnostics)).toBe(false);
    const w = r.diagnostics.find((d) => d.summary === 'Unknown data source type');
    expect(w).toMatchObject({ severity: 'warning', range: { start: { line: 20, column: 6 } } });
    const config = r.template?.builds[0]?.config ?? {};
    expect(config.source_ami).toBeInstanceOf(UnknownValue);
    expect(config.user_data).toBeInstanceOf(UnknownValue);
  });

  it('are resolved through the resolvers with their evaluated arguments', async () => {
    const calls: unknown[] = [];
    const r = await load({
      amazonAmi: async (args: Config) => {
        calls.push(['ami', args]);
        return { id: 'ami-0123456789abcdef0', name: 'ubuntu' };
      },
      parameterStore: async (name, decrypt) => {
        calls.push(['ssm', name, decrypt]);
        return 'tok';
      },
      secretsManager: async (id, key) => {
        calls.push(['sm', id, key]);
        return 'pw';
      },
    });
    expect(hasErrors(r.diagnostics)).toBe(false);
    expect(calls).toEqual([
      ['ami', { filters: { name: 'ubuntu/images/*-jammy-*' }, owners: ['099720109477'], most_recent: true }],
      ['ssm', '/kiln/token', true],
      ['sm', 'db-password', 'password'],
    ]);
    const config = r.template?.builds[0]?.config ?? {};
    expect(config.source_ami).toBe('ami-0123456789abcdef0');
    expect(config.user_data).toBe('tok:pw');
    expect(r.template?.sensitiveValues).toEqual(expect.arrayContaining(['tok', 'pw']));
  });

  it('turns a resolver failure into a diagnostic', async () => {
    const r = await load({
      amazonAmi: async () => {
        throw new Error('no AMI matched');
      },
    });
    const d = r.diagnostics.find((x) => x.summary === 'Failed to resolve data source amazon-ami.ubuntu');
    expect(d).toMatchObject({ severity: 'error', detail: 'no AMI matched', range: { start: { line: 2 } } });
  });
});
