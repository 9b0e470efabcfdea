// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are HCL source, where ${} is HCL interpolation.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultReadFile } from '../../../../core/frontends/hcl/files.ts';
import { hclFunctions } from '../../../../core/hcl/functions/index.ts';
import { evalError, evalExpr, testContext } from './eval-helper.ts';

type Case = readonly [string, unknown];

const families: Record<string, readonly Case[]> = {
  string: [
    ['format("%s-%03d-%.2f-%t-%q-%v", "a", 7, 3.14159, true, "q", [1])', 'a-007-3.14-true-"q"-[1]'],
    ['format("%-4s|%5s|%%", "ab", "cd")', 'ab  |   cd|%'],
    ['formatlist("%s=%s", ["a", "b"], "x")', ['a=x', 'b=x']],
    ['join(",", ["a", "b"], ["c"])', 'a,b,c'],
    ['split(",", "a,b,,c")', ['a', 'b', '', 'c']],
    ['replace("hello world", "o", "0")', 'hell0 w0rld'],
    ['replace("ami-123 ami-456", "/ami-(\\\\d+)/", "id$1")', 'id123 id456'],
    ['regex("(\\\\d+)-(\\\\d+)", "v12-34")', ['12', '34']],
    ['regex("(?P<major>\\\\d+)\\\\.(?P<minor>\\\\d+)", "1.22")', { major: '1', minor: '22' }],
    ['regexall("[a-z]+", "ab 12 cd")', ['ab', 'cd']],
    ['lower("ABC")', 'abc'],
    ['upper("abc")', 'ABC'],
    ['title("hello world-wide")', 'Hello World-Wide'],
    ['trim("?!hello?!", "!?")', 'hello'],
    ['trimprefix("ami-123", "ami-")', '123'],
    ['trimsuffix("file.txt", ".txt")', 'file'],
    ['trimspace("  x \\n")', 'x'],
    ['chomp("line\\n\\n")', 'line'],
    ['indent(2, "a\\nb")', 'a\n  b'],
    ['substr("hello", 1, 3)', 'ell'],
    ['substr("hello", -3, -1)', 'llo'],
    ['strrev("abc")', 'cba'],
    ['startswith("packer", "pack")', true],
    ['endswith("packer", "er")', true],
    ['strcontains("packer", "ck")', true],
  ],
  collection: [
    ['concat([1], [2, 3])', [1, 2, 3]],
    ['contains(["a", "b"], "b")', true],
    ['distinct([1, 2, 1])', [1, 2]],
    ['element(["a", "b"], 3)', 'b'],
    ['flatten([[1, [2]], 3])', [1, 2, 3]],
    ['keys({b = 1, a = 2})', ['a', 'b']],
    ['values({b = 1, a = 2})', [2, 1]],
    ['length("héllo")', 5],
    ['length({a = 1})', 1],
    ['lookup({a = 1}, "b", 9)', 9],
    ['merge({a = 1, b = 1}, {b = 2})', { a: 1, b: 2 }],
    ['range(3)', [0, 1, 2]],
    ['range(1, 10, 4)', [1, 5, 9]],
    ['reverse([1, 2])', [2, 1]],
    ['setintersection(["a", "b"], ["b", "c"])', ['b']],
    ['setunion(["a"], ["b", "a"])', ['a', 'b']],
    ['setsubtract(["a", "b"], ["a"])', ['b']],
    [
      'setproduct(["a", "b"], [1])',
      [
        ['a', 1],
        ['b', 1],
      ],
    ],
    ['slice([1, 2, 3, 4], 1, 3)', [2, 3]],
    ['sort(["b", "a", "c"])', ['a', 'b', 'c']],
    ['zipmap(["a", "b"], [1, 2])', { a: 1, b: 2 }],
    ['coalesce("", null, "x")', 'x'],
    ['coalescelist([], [1])', [1]],
    ['compact(["a", "", null, "b"])', ['a', 'b']],
    ['index(["a", "b"], "b")', 1],
    ['chunklist([1, 2, 3], 2)', [[1, 2], [3]]],
    ['transpose({a = ["1", "2"], b = ["2"]})', { '1': ['a'], '2': ['a', 'b'] }],
    ['alltrue([true, "true"])', true],
    ['anytrue([false])', false],
    ['sum([1, 2.5])', 3.5],
    ['one([])', null],
  ],
  numeric: [
    ['abs(-3)', 3],
    ['ceil(1.2)', 2],
    ['floor(1.8)', 1],
    ['log(8, 2)', 3],
    ['max(1, 7, 3)', 7],
    ['min(4, 2)', 2],
    ['pow(2, 10)', 1024],
    ['signum(-9)', -1],
    ['parseint("ff", 16)', 255],
    ['parseint("-101", 2)', -5],
  ],
  encoding: [
    ['base64encode("hello")', 'aGVsbG8='],
    ['base64decode("aGVsbG8=")', 'hello'],
    ['jsonencode({a = [1, true, null]})', '{"a":[1,true,null]}'],
    ['jsondecode("{\\"a\\": [1, 2]}")', { a: [1, 2] }],
    ['yamldecode("a: 1\\nb: [x, y]\\n")', { a: 1, b: ['x', 'y'] }],
    ['yamlencode({a = 1})', 'a: 1\n'],
    ['urlencode("a b&c=d/é")', 'a+b%26c%3Dd%2F%C3%A9'],
    ['csvdecode("a,b\\n1,\\"x,y\\"\\n")', [{ a: '1', b: 'x,y' }]],
    ['textencodebase64("hi", "UTF-16LE")', 'aABpAA=='],
    ['textdecodebase64("aABpAA==", "UTF-16LE")', 'hi'],
  ],
  crypto: [
    ['md5("hello")', '5d41402abc4b2a76b9719d911017c592'],
    ['sha1("hello")', 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'],
    ['sha256("hello")', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'],
    ['base64sha256("hello")', 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ='],
    ['uuidv5("dns", "www.example.com")', '2ed6657d-e927-568b-95e1-2665a8aea6a2'],
    ['length(sha512("x"))', 128],
    ['length(uuidv4())', 36],
  ],
  datetime: [
    ['timestamp()', '2024-01-02T03:04:05Z'],
    ['formatdate("YYYY-MM-DD hh:mm:ss EEE MMM", "2024-03-05T14:07:09Z")', '2024-03-05 14:07:09 Tue Mar'],
    ['formatdate("DD MMMM YYYY \'at\' h:mm AA", "2024-03-05T14:07:09Z")', '05 March 2024 at 14:07 PM'],
    ['timeadd("2024-01-01T00:00:00Z", "1h30m")', '2024-01-01T01:30:00Z'],
    ['timeadd("2024-01-01T00:00:00Z", "-24h")', '2023-12-31T00:00:00Z'],
    ['legacy_isotime("2006-01-02 15:04")', '2024-01-02 03:04'],
    ['legacy_strftime("%Y%m%d-%H%M")', '20240102-0304'],
  ],
  conversion: [
    ['tostring(12)', '12'],
    ['tonumber("3.5")', 3.5],
    ['tobool("true")', true],
    ['tolist(["a", 1])', ['a', 1]],
    ['toset(["a", "a", "b"])', ['a', 'b']],
    ['tomap({a = 1})', { a: 1 }],
    ['sensitive("s")', 's'],
    ['nonsensitive("s")', 's'],
  ],
  network: [
    ['cidrhost("10.0.0.0/16", 5)', '10.0.0.5'],
    ['cidrnetmask("172.16.0.0/12")', '255.240.0.0'],
    ['cidrsubnet("10.1.0.0/16", 8, 2)', '10.1.2.0/24'],
    ['cidrsubnets("10.1.0.0/16", 4, 4, 8)', ['10.1.0.0/20', '10.1.16.0/20', '10.1.32.0/24']],
  ],
};

describe('HCL functions', () => {
  for (const [family, cases] of Object.entries(families)) {
    describe(family, () => {
      it.each(cases)('%s', async (src, expected) => {
        expect(await evalExpr(src)).toEqual(expected);
      });
    });
  }

  it("implements at least 80 of Packer's functions", () => {
    expect(hclFunctions().size + 3).toBeGreaterThanOrEqual(80);
  });

  it('reads files relative to the template directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-hcl-fn-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.txt'), 'A');
    writeFileSync(join(dir, 'sub', 'b.sh'), 'B');
    writeFileSync(join(dir, 'user-data.tpl'), 'host=${host}\n%{ for p in ports ~}\nport ${p}\n%{ endfor ~}\n');
    const ctx = testContext({}, dir);
    const withFs = { ...ctx, environment: { ...ctx.environment, readFile: defaultReadFile } };
    expect(await evalExpr('file("a.txt")', {}, withFs)).toBe('A');
    expect(await evalExpr('fileexists("a.txt")', {}, withFs)).toBe(true);
    expect(await evalExpr('fileexists("nope")', {}, withFs)).toBe(false);
    expect(await evalExpr('fileset(".", "**/*.sh")', {}, withFs)).toEqual(['sub/b.sh']);
    expect(await evalExpr('fileset(".", "*.txt")', {}, withFs)).toEqual(['a.txt']);
    expect(await evalExpr('templatefile("user-data.tpl", { host = "h", ports = [22, 80] })', {}, withFs)).toBe(
      'host=h\nport 22\nport 80\n',
    );
    expect(await evalExpr('basename("/a/b.txt")')).toBe('b.txt');
    expect(await evalExpr('dirname("/a/b.txt")')).toBe('/a');
    expect(await evalExpr('pathexpand("~/x")')).toBe('/home/kiln/x');
  });

  it.each([
    ['file("missing.txt")', /no file exists at "missing.txt"/],
    ['regex("(a|aa)*$", "aaaa")', /nested quantifiers/],
    ['regex("x", "y")', /did not match/],
    ['lookup({}, "k")', /failed to find key "k"/],
    ['element([], 0)', /empty list/],
    ['parseint("zz", 10)', /cannot parse/],
    ['jsondecode("{")', /jsondecode/],
    ['format("%d", 1.5)', /integer/],
  ])('%s fails in bounded time with a diagnostic', async (src, detail) => {
    const e = await evalError(src);
    expect(e?.summary).toBe('Error in function call');
    expect(e?.detail).toMatch(detail);
  });
});
