/**
 * The Content-Security-Policy of every page the node serves (the lobby, the
 * room page, the calling pages, the 503 page and redirects): only this node's
 * scripts, styles and connections, no plugins, no <base>, forms to this node
 * only, and no framing by any site (clickjacking). The one definition: extend
 * it here, never per page. A fleet's node adds the origins of the other
 * nodes (their cluster.nodeUrl) to connect-src.
 * NOTE: the calling pages keep the account's tokens in localStorage; the
 * policy lets no script run but this node's bundles (docs/web-client.md, "Tokens").
 */
export function pageCsp(connect: readonly string[] = []): string {
	return [
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		// The web app manifest and the service worker (docs/web-client.md, "Install and offline").
		"manifest-src 'self'",
		"worker-src 'self'",
		// NOTE: a fleet's pages also connect to the other nodes' origins: a room lives on one node (docs/cluster.md).
		["connect-src 'self'", ...connect].join(' '),
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	].join('; ');
}

/** The policy of a node alone. */
export const PAGE_CSP = pageCsp();
