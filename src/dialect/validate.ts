import path from 'node:path';
import { formatFieldPath } from '../util/zod-issues.js';
import type { Dialect, DialectFieldError } from './dialect.js';
import { checkExamples } from './examples.js';
import { checkDialectFile, DialectError, DialectRegistry, defaultDialectDirs } from './loader.js';

/** What `dialect validate` found in one file. */
export interface DialectValidation {
  file: string;
  /** The compiled dialect, when the file loads (its examples may still fail). */
  dialect?: Dialect;
  /** "file:line:col: field: what is wrong — what to fix", in the order of the file. */
  problems: string[];
  /** Legal but likely wrong: "file:line:col: warning: field: ...". */
  warnings: string[];
  examplesChecked: number;
}

/** Where `extends` is looked up for one file: the built-ins, MCP_SSH_DIALECT_PATH, then the file's folder. */
export function dialectDirsFor(file: string): string[] {
  const dirs = defaultDialectDirs();
  const own = path.dirname(path.resolve(file));
  return dirs.some((dir) => path.resolve(dir) === own) ? dirs : [...dirs, own];
}

/** Load one file as the server would, then check its examples; every problem is collected. */
export async function validateDialectFile(
  file: string,
  dirs: string[] = dialectDirsFor(file),
): Promise<DialectValidation> {
  const report: DialectValidation = { file, problems: [], warnings: [], examplesChecked: 0 };
  const { source, problems } = await checkDialectFile(file);
  report.problems.push(...problems);
  if (!source) return report;

  const warn = (warning: DialectFieldError) => {
    // An inherited field is its own file's business: warn only where the field is written.
    if (!isWrittenIn(source.data, warning.path)) return;
    const line = `${source.locate(warning.path)}: warning: ${warning.message}`;
    if (!report.warnings.includes(line)) report.warnings.push(line);
  };
  try {
    report.dialect = await new DialectRegistry(dirs).compile(source, { warn });
  } catch (error) {
    if (!(error instanceof DialectError)) throw error;
    report.problems.push(...error.message.split('\n'));
    return sorted(report);
  }

  if (source.data.examples) {
    const { findings, checked } = checkExamples(report.dialect, source.data.examples);
    report.examplesChecked = checked;
    for (const finding of findings) {
      const where = source.locate(finding.path);
      const field = formatFieldPath(finding.path);
      if (finding.severity === 'error') report.problems.push(`${where}: ${field}: ${finding.message}`);
      else report.warnings.push(`${where}: warning: ${field}: ${finding.message}`);
    }
  }
  return sorted(report);
}

/** The lines `dialect validate` prints for one file. */
export function formatValidation(report: DialectValidation): string[] {
  if (report.problems.length > 0 || !report.dialect) {
    return byPosition(report.file, [...report.problems, ...report.warnings]);
  }
  const { name, modes } = report.dialect;
  const warnings = report.warnings.length;
  const summary = [
    name,
    `${modes.length} mode${modes.length === 1 ? '' : 's'}`,
    `${report.examplesChecked} example${report.examplesChecked === 1 ? '' : 's'} checked`,
    ...(warnings > 0 ? [`${warnings} warning${warnings === 1 ? '' : 's'}`] : []),
  ];
  return [...report.warnings, `ok ${report.file} (${summary.join(', ')})`];
}

function sorted(report: DialectValidation): DialectValidation {
  return {
    ...report,
    problems: byPosition(report.file, report.problems),
    warnings: byPosition(report.file, report.warnings),
  };
}

/** Lines of this file by line and column; others (a parent dialect's) after them, in their order. */
function byPosition(file: string, lines: string[]): string[] {
  const position = (line: string) => {
    const m = line.startsWith(`${file}:`) ? /^:(\d+):(\d+):/.exec(line.slice(file.length)) : null;
    return m ? Number(m[1]) * 100_000 + Number(m[2]) : Number.MAX_SAFE_INTEGER;
  };
  return lines
    .map((line, i) => ({ line, i, at: position(line) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((entry) => entry.line);
}

function isWrittenIn(data: unknown, fieldPath: (string | number)[]): boolean {
  let node = data;
  for (const key of fieldPath) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node !== undefined;
}
