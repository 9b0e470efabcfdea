#!/usr/bin/env node
// The `kiln` binary: registers tsx so the TypeScript sources run as they are (no build step), then hands
// over to cli/main.ts, which sets the exit code.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
