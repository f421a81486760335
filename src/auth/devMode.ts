import net from 'node:net';
import type { AuthConfig } from '../config';

export function isLoopback(address: string): boolean {
	if (net.isIPv4(address)) {
		return address.startsWith('127.');
	}
	return address === '::1';
}

/**
 * Whether dev mode (the open token route) is on: `auth.dev`, where "auto"
 * means on exactly when the node listens on loopback.
 * @throws Error when dev mode would be on for a non-loopback address without auth.devForce.
 */
export function resolveDevMode(config: { http: { host: string }; auth: Pick<AuthConfig, 'dev' | 'devForce'> }): boolean {
	const loopback = isLoopback(config.http.host);
	const dev = config.auth.dev === 'auto' ? loopback : config.auth.dev;
	if (dev && !loopback && !config.auth.devForce) {
		throw new Error(`dev mode hands out tokens to anyone and http.host ${config.http.host} is not loopback: ` +
			'set auth.dev to false, or auth.devForce to true if you mean it');
	}
	return dev;
}

/**
 * Whether a browser Origin may use the API: one of http.allowedOrigins, or a
 * loopback origin in dev mode. Requests with no Origin (non-browser clients)
 * pass; they still need a token.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[], dev: boolean): boolean {
	if (origin === undefined) {
		return true;
	}
	let url: URL;
	try {
		url = new URL(origin);
	} catch {
		return false;
	}
	if (allowed.some((entry) => new URL(entry).origin === url.origin)) {
		return true;
	}
	const host = url.hostname.replace(/^\[|\]$/g, '');
	return dev && (host === 'localhost' || isLoopback(host));
}
