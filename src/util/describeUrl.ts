/**
 * A server's URL for messages and logs, without its password or parameters:
 * `user@host:port/path` (`host:port` when there is neither user nor path).
 * For URLs that carry secrets: store.url, cluster.redisUrl.
 */
export function describeUrl(url: string): string {
	try {
		const parsed = new URL(url);
		const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
		return `${user}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
	} catch {
		return '(an unreadable URL)';
	}
}
