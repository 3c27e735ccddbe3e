// An indenting line writer for libvirt's XML output: two spaces a level, single-quoted
// attributes escaped as virBufferEscapeString does.
import { escapeXml } from './tree.js';

export class Writer {
  lines: string[] = [];
  private depth = 0;
  line(s: string): void {
    this.lines.push('  '.repeat(this.depth) + s);
  }
  open(s: string): void {
    this.line(s);
    this.depth++;
  }
  close(s: string): void {
    this.depth--;
    this.line(s);
  }
  /** `<head/>` when there is no content, else `<head>`, the content, `</name>`. */
  element(head: string, name: string, content: (() => void) | undefined): void {
    if (!content) {
      this.line(`<${head}/>`);
      return;
    }
    this.open(`<${head}>`);
    content();
    this.close(`</${name}>`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** ` name='value'`, or nothing when the value is undefined. */
export const attr = (name: string, value: string | number | undefined): string =>
  value === undefined ? '' : ` ${name}='${escapeXml(String(value))}'`;
