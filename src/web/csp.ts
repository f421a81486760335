/**
 * The Content-Security-Policy of every page the node serves (the lobby, the
 * room page, the calling pages, the 503 page and redirects): only this node's
 * scripts, styles and connections, no plugins, no <base>, forms to this node
 * only, and no framing by any site (clickjacking). The one definition: extend
 * it here, never per page.
 * NOTE: the calling pages keep the account's tokens in localStorage; the
 * policy lets no script run but this node's bundles (docs/web-client.md, "Tokens").
 */
export const PAGE_CSP = [
	"default-src 'self'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self' data:",
	"connect-src 'self'",
	"object-src 'none'",
	"base-uri 'none'",
	"form-action 'self'",
	"frame-ancestors 'none'",
].join('; ');
