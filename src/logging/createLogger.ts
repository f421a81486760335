import winston from 'winston';
import type { LogConfig } from '../config';

export type Logger = winston.Logger;

/** Field names whose values never reach a log line. */
const SECRET_FIELDS = new Set(['token', 'password', 'secret', 'authorization', 'cookie', 'accessToken', 'refreshToken']);

const redact = winston.format((info) => {
	for (const key of Object.keys(info)) {
		if (SECRET_FIELDS.has(key)) {
			info[key] = '[redacted]';
		}
	}
	return info;
});

const pretty = winston.format.printf((info) => {
	const { timestamp, level, message, module, stack, ...fields } = info;
	const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
	return `${timestamp as string} ${level} [${(module as string | undefined) ?? 'main'}] ${message as string}${rest}${stack ? `\n${stack as string}` : ''}`;
});

export type CreateLoggerOptions = LogConfig & {
	/** Where lines go; stdout by default. Tests pass a stream to read them. */
	stream?: NodeJS.WritableStream;
	nodeEnv?: string;
};

/**
 * The process's logger. Modules take a child: `logger.child({ module: 'rooms', roomId })`,
 * so every line carries its module and the ids it concerns.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
	const json = options.format === 'json' || (options.format === 'auto' && options.nodeEnv === 'production');
	const colors = !options.stream && process.stdout.isTTY === true;
	const transport = options.stream
		? new winston.transports.Stream({ stream: options.stream })
		: new winston.transports.Console();
	return winston.createLogger({
		level: options.level,
		format: winston.format.combine(
			redact(),
			winston.format.errors({ stack: true }),
			winston.format.timestamp(),
			json ? winston.format.json() : colors ? winston.format.combine(winston.format.colorize(), pretty) : pretty,
		),
		transports: [transport],
	});
}
