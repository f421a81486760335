import { z } from 'zod';

const port = z.number({ error: 'expected a port number' }).int({ error: 'expected a whole port number' })
	.min(1, { error: 'expected a port from 1 to 65535' }).max(65535, { error: 'expected a port from 1 to 65535' });
const WORKERS = 'expected "auto" or a whole number from 1 to 256';
const ip = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });

/** The shape and rules of the effective config; config/default.yaml documents each key. */
export const configSchema = z.strictObject({
	http: z.strictObject({
		host: ip,
		port,
	}),
	media: z.strictObject({
		workers: z.union([
			z.literal('auto'),
			z.number().int({ error: WORKERS }).min(1, { error: WORKERS }).max(256, { error: WORKERS }),
		], { error: WORKERS }),
		port,
		listenIp: ip,
		announcedAddress: z.string().min(1).max(253).nullable(),
		workerLogLevel: z.enum(['debug', 'warn', 'error', 'none']),
		usageIntervalMs: z.number().int().min(100).max(600_000),
		restartDelayMs: z.number().int().min(0).max(60_000),
		restartMaxDelayMs: z.number().int().min(0).max(600_000),
		restartFailuresBeforeUnready: z.number().int().min(1).max(100),
	}),
	log: z.strictObject({
		level: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']),
		format: z.enum(['auto', 'json', 'pretty']),
	}),
});

export type Config = z.infer<typeof configSchema>;
export type MediaConfig = Config['media'];
export type LogConfig = Config['log'];

/** Keys whose values are secrets: printed as "[redacted]". */
export const SECRET_KEYS: ReadonlySet<string> = new Set<string>([]);
