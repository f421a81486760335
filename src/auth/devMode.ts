import net from 'node:net';
import type { AuthConfig } from '../config';

/** Whether `address` is a loopback address (127.0.0.0/8, ::1, or 127.x as an IPv4-mapped IPv6 address). */
export function isLoopback(address: string): boolean {
	const v4 = /^::ffff:/i.test(address) && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
	if (net.isIPv4(v4)) {
		return v4.startsWith('127.');
	}
	return address === '::1';
}

/**
 * Whether dev mode (the open token route) is on: `auth.dev`, where "auto"
 * means on exactly when the node listens on loopback, trusts no proxy
 * (`http.trustProxy` false) and `nodeEnv` is not "production". Behind a
 * reverse proxy a loopback listener is reachable from anywhere: "auto" is
 * off there.
 * @throws Error when dev mode would be on for a non-loopback address without auth.devForce.
 */
export function resolveDevMode(
	config: { http: { host: string; trustProxy: boolean | number }; auth: Pick<AuthConfig, 'dev' | 'devForce'> },
	{ nodeEnv }: { nodeEnv: string | undefined },
): boolean {
	const loopback = isLoopback(config.http.host);
	const dev = config.auth.dev === 'auto'
		? loopback && config.http.trustProxy === false && nodeEnv !== 'production'
		: config.auth.dev;
	if (dev && !loopback && !config.auth.devForce) {
		throw new Error(`dev mode hands out tokens to anyone and http.host ${config.http.host} is not loopback: ` +
			'set auth.dev to false, or auth.devForce to true if you mean it');
	}
	return dev;
}

/**
 * Headers a proxy adds (Forwarded, X-Real-IP, X-Forwarded-For and the other
 * X-Forwarded-*): a request that carries one came through a proxy, or says
 * it did, so it is not known to come from this host.
 */
const PROXY_HEADER = /^(forwarded|x-real-ip|x-forwarded-.*)$/;

/**
 * Whether a request may have a dev token: its TCP peer (never an address a
 * header names) is loopback and it carries no proxy header. `headers` are
 * node's, with lower-case names.
 */
export function fromThisHost(peer: string | undefined, headers: Readonly<Record<string, unknown>>): boolean {
	return peer !== undefined && isLoopback(peer) && !Object.keys(headers).some((name) => PROXY_HEADER.test(name));
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
