/**
 * Where CLI commands write. Commands take a sink instead of touching process.stdout so that tests can run
 * them in-process and assert on exactly what a user would see.
 */
export interface CliIO {
  /** Standard output (results: "The configuration is valid.", inspect, plan). */
  out(text: string): void;
  /** Standard error (diagnostics, usage errors). */
  err(text: string): void;
  /** ANSI colours allowed on this output. */
  readonly color: boolean;
  /** Environment the command sees (PKR_VAR_*); the CLI is the one place that passes process.env on. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative template, var-file and script paths resolve against. */
  readonly cwd: string;
  /** Clock for machine-readable timestamps; injectable for stable test output. */
  readonly now: () => Date;
}

/**
 * Colours follow the no-color.org convention: only on a terminal, and never when NO_COLOR is set to
 * anything (even empty is treated as unset, per the convention: "present and not an empty string").
 */
export function colorEnabled(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  const noColor = env.NO_COLOR;
  return isTTY === true && (noColor === undefined || noColor === '');
}

export function processIO(): CliIO {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: colorEnabled(process.stdout.isTTY, process.env),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/** An in-memory sink for tests and for the conformance suite. */
export interface BufferedIO extends CliIO {
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export function bufferedIO(options: Partial<Pick<CliIO, 'color' | 'env' | 'cwd' | 'now'>> = {}): BufferedIO {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    color: options.color ?? false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: options.now ?? (() => new Date(0)),
    stdout: () => out,
    stderr: () => err,
  };
}
