/**
 * `clean_resource_name`: turns a string into a valid image name. Each builder family brings its own rules
 * (Packer registers the function per plugin): Amazon AMI names allow letters, digits and `()[] ./-'@_`;
 * Google Compute image names are lowercase `[-a-z0-9]`, at most 63 characters.
 */

const AMAZON_ALLOWED = /[A-Za-z0-9()[\] ./\-'@_]/;
const GCE_VALID = /^[a-z][-a-z0-9]{0,61}[a-z0-9]$/;

export function cleanAmazonImageName(s: string): string {
  let out = '';
  // Go iterates bytes: every byte of a multi-byte character becomes one '-'.
  for (const ch of s) {
    out += AMAZON_ALLOWED.test(ch) ? ch : '-'.repeat(Buffer.byteLength(ch, 'utf8'));
  }
  return out;
}

export function cleanGceImageName(s: string): string {
  if (GCE_VALID.test(s)) return s;
  const bytes = Buffer.from(s.toLowerCase(), 'utf8');
  const n = Math.min(bytes.length, 63);
  let out = '';
  for (let i = 0; i < n; i++) {
    const b = bytes[i] ?? 0;
    const isAlnum = (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a);
    out += isAlnum ? String.fromCharCode(b) : '-';
  }
  return out;
}
