import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const PROJECT_DIR = path.resolve(__dirname, '..', '..');

/**
 * Runs src/main.ts as a child process, as `npm start` runs dist/main.js.
 * NOTE: one process (`node --import tsx`), not tsx's CLI, which runs the
 * program in a second process: a SIGKILL must reach the node itself.
 */
export function startMain(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
	const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'src', 'main.ts'), ...args], {
		cwd: PROJECT_DIR,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	return { child, output: () => output, exited };
}
