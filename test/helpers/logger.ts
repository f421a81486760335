import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging';

/** A JSON logger whose lines tests can read; printed to stderr with TEST_LOG=1. */
export function testLogger(level = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
	const stream = new PassThrough();
	const lines: string[] = [];
	stream.on('data', (chunk: Buffer) => {
		for (const line of chunk.toString('utf8').split('\n')) {
			if (line) {
				lines.push(line);
				if (process.env.TEST_LOG === '1') {
					process.stderr.write(`${line}\n`);
				}
			}
		}
	});
	const logger = createLogger({ level: (process.env.TEST_LOG === '1' ? 'debug' : level) as 'info', format: 'json', stream });
	return { logger, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
