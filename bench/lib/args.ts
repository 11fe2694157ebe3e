/**
 * Command-line options of a bench script, parsed with node:util's parseArgs: `--help` prints the
 * script's own head comment (what it measures and how it is run), and a mistyped option or
 * value names itself and points there, with exit code 2, instead of ending in a stack trace.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'

/** The first block comment of a source file, without its comment markers. */
export function headComment(source: string): string {
  const match = /\/\*\*([\s\S]*?)\*\//.exec(source)
  if (match === null) return ''
  return (match[1] ?? '')
    .split('\n')
    .map(line => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim()
}

export function benchArgs<const O extends ParseArgsOptionsConfig>(
  scriptUrl: string,
  options: O,
  argv: string[] = process.argv.slice(2)
): ReturnType<typeof parseArgs<{ options: O; args: string[] }>>['values'] {
  const script = fileURLToPath(scriptUrl)
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(headComment(readFileSync(script, 'utf8')))
    process.exit(0)
  }
  try {
    return parseArgs({ options, args: argv }).values
  } catch (err) {
    console.error(`${basename(script)}: ${(err as Error).message}\n(--help describes the options)`)
    process.exit(2)
  }
}
