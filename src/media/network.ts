import { createHmac } from 'node:crypto';
import net from 'node:net';
import type { MediaConfig, TurnConfig } from '../config';

/** An RFC 1918, CGNAT, link-local or unique-local address (not reachable from the internet). */
export function isPrivateAddress(address: string): boolean {
	if (net.isIPv4(address)) {
		const [a, b] = address.split('.').map(Number) as [number, number];
		return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
			(a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
	}
	const lower = address.toLowerCase();
	return lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80:');
}

/**
 * What is wrong with the media addresses for clients beyond this machine, or
 * undefined. Listening on a wildcard or private address with no
 * announcedAddress means the candidates clients get are unreachable (or
 * 0.0.0.0) from outside: the first complaint about every SFU.
 */
export function natWarning(media: Pick<MediaConfig, 'listenIp' | 'announcedAddress'>): string | undefined {
	if (media.announcedAddress) {
		return undefined;
	}
	if (media.listenIp === '0.0.0.0' || media.listenIp === '::') {
		return `media.listenIp is ${media.listenIp} and media.announcedAddress is not set: clients would be given ${media.listenIp} as the media address. Set media.announcedAddress to the node's public IP or name.`;
	}
	if (isPrivateAddress(media.listenIp)) {
		return `media.listenIp ${media.listenIp} is a private address and media.announcedAddress is not set: clients outside this network cannot reach it. Set media.announcedAddress (see docs/deploy.md) unless every client is on this network.`;
	}
	return undefined;
}

export type IceServer = { urls: string[]; username?: string; credential?: string };

/**
 * TURN servers with time-limited credentials (coturn's REST API, use-auth-secret):
 * username `<expiry unix time>:<user>`, credential base64(HMAC-SHA1(secret, username)).
 */
export function turnServers(turn: TurnConfig, user: string, now = Date.now()): IceServer[] {
	if (turn.urls.length === 0 || !turn.secret) {
		return [];
	}
	const username = `${Math.floor(now / 1000) + turn.credentialTtlSeconds}:${user}`;
	const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
	return [{ urls: [...turn.urls], username, credential }];
}
