/** The build context rule: the template's folder minus templates, var files and .kilnignore; `*` turns it off. */
import { describe, expect, it } from 'vitest';
import { buildContextFiles, parseKilnignore } from '../../../core/docker/context.ts';

const FILES = [
  'docker-python-app.json',
  'requirements.txt',
  'app/main.py',
  'tests/test_app.py',
  'tests/data/big.bin',
  'prod.pkrvars.hcl',
  'dev.auto.pkrvars.json',
  'build.pkr.hcl',
  'vars.pkr.json',
  '.kilnignore',
  'notes/readme.md',
];

describe('buildContextFiles', () => {
  it('keeps the app files, leaves out the template and variable files', () => {
    expect(buildContextFiles({ files: FILES, templateFile: 'docker-python-app.json' })).toEqual([
      'requirements.txt',
      'app/main.py',
      'tests/test_app.py',
      'tests/data/big.bin',
      'notes/readme.md',
    ]);
  });

  it('.kilnignore: files, folders, * within a component, ** across components, comments', () => {
    const kilnignore = '# not shipped\nnotes/\n**/*.bin\n/app/*.py\n';
    expect(buildContextFiles({ files: FILES, templateFile: 'docker-python-app.json', kilnignore })).toEqual([
      'requirements.txt',
      'tests/test_app.py',
    ]);
  });

  it('a .kilnignore holding * (or **) turns the build context off', () => {
    expect(buildContextFiles({ files: FILES, kilnignore: '*\n' })).toEqual([]);
    expect(buildContextFiles({ files: FILES, kilnignore: '**' })).toEqual([]);
  });

  it('a pattern matches whole components only', () => {
    expect(buildContextFiles({ files: ['tests/a', 'tests2/b', 'x/tests/c'], kilnignore: 'tests' })).toEqual([
      'tests2/b',
      'x/tests/c',
    ]);
  });

  it('parses patterns (leading ./ and /, trailing /, blanks and comments)', () => {
    expect(parseKilnignore('./a/\r\n\n  # c\n/b\n')).toEqual(['a', 'b']);
  });
});
