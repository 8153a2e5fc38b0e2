/**
 * One line per check: PASS, FAIL (with the reasons indented below it) or SKIP, and a summary.
 * A check is a function that returns the problems it found; none means PASS.
 */
const useColour = process.stdout.isTTY === true;
const paint = (code: string) => (text: string) => (useColour ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = paint('32');
const red = paint('31');
const yellow = paint('33');

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A problem list, or a thrown Error whose message is the one problem (a missing tool, say). */
export type Check = () => readonly string[];

export class Report {
  private failed = 0;
  private skipped = 0;
  private readonly started = Date.now();

  check(name: string, run: Check): void {
    let problems: readonly string[];
    try {
      problems = run();
    } catch (error) {
      problems = [messageOf(error)];
    }
    if (problems.length === 0) this.pass(name);
    else this.fail(name, problems);
  }

  pass(name: string): void {
    console.log(`${green('PASS')}  ${name}`);
  }

  fail(name: string, problems: readonly string[]): void {
    this.failed += 1;
    console.log(`${red('FAIL')}  ${name}`);
    const details = problems.join('\n').trimEnd();
    if (details) console.log(details.replace(/^/gm, '      '));
  }

  skip(reason: string): void {
    this.skipped += 1;
    console.log(`${yellow('SKIP')}  ${reason}`);
  }

  /** Prints the summary; true when every check passed. */
  finish(): boolean {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    const summary = `${this.failed} failed, ${this.skipped} skipped, in ${seconds} s`;
    if (this.failed > 0) console.log(red(`deployment files: ${summary}`));
    else console.log(green(`deployment files valid: ${summary}`));
    return this.failed === 0;
  }
}
