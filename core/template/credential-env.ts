/**
 * Environment variables whose values are credentials. A template that reads one through env() (a variable
 * default in HCL, `{{env}}` in a JSON variable) would otherwise print it in `kiln plan` and `kiln inspect`;
 * its value is treated as sensitive instead.
 */
const CREDENTIAL_NAME =
  /^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)$|SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY|CREDENTIAL|API_KEY/i;

export function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/**
 * The environment as a template sees it, recording credential-like values that were read. A Proxy so that
 * only names actually read count (a template that never mentions AWS_SESSION_TOKEN leaves it alone).
 */
export function recordingEnv(
  env: Readonly<Record<string, string | undefined>>,
  sensitive: string[],
): Readonly<Record<string, string | undefined>> {
  return new Proxy(env, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof name === 'string' && typeof value === 'string' && value !== '' && looksLikeCredential(name)) {
        sensitive.push(value);
      }
      return value;
    },
  });
}
