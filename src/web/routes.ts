import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { handle as handleSchema, roomId as roomIdSchema } from '../signaling';
import { directoryPage, historyPage, linksPage, profilePage, settingsPage, signinPage } from './accountPages';
import { linkPage } from './linkPages';
import { PAGE_CSP, pageCsp } from './csp';
import { lobbyPage, offlinePage, roomPage, unavailablePage } from './pages';

/** Where scripts/build-client.mjs writes the bundle. */
export const PUBLIC_DIR = path.resolve(__dirname, '..', '..', 'dist', 'public');

/**
 * The web client: GET / (lobby), GET /room?name=&room= (the lobby's form),
 * GET /room/:roomId?name= (joins at once), the calling pages (/signin,
 * /signup, /directory, /u/:handle, /settings, /history, /links, and a call
 * link's page /l/:id: shells that need no
 * token; their bundles use the account's), the bundles under /assets/ and,
 * there too, what makes the client installable: the manifest, the icons, the
 * service worker and its offline page.
 * Without a built bundle the pages answer 503 with how to build it. Every
 * answer here carries PAGE_CSP (with `connectOrigins`, a fleet's nodes, in its connect-src).
 */
export function webRoutes({ publicDir = PUBLIC_DIR, connectOrigins }: { publicDir?: string; connectOrigins?: () => string[] } = {}): Router {
	const router = Router();
	// NOTE: before any route, so no page, redirect or asset goes out without it
	// (nor a 404 that falls through this router).
	router.use((_req, res, next) => {
		res.set('Content-Security-Policy', connectOrigins ? pageCsp(connectOrigins()) : PAGE_CSP);
		next();
	});
	const built = (bundle = 'room.js') => fs.existsSync(path.join(publicDir, bundle));
	const html = (res: express.Response, status: number, body: string) =>
		res.status(status).type('html').set('Cache-Control', 'no-store').send(body);
	/** A page of the calling client, or the 503 page without its bundle. */
	const calling = (res: express.Response, bundle: string, body: () => string) => {
		html(res, built(bundle) ? 200 : 503, built(bundle) ? body() : unavailablePage());
	};

	router.get('/', (_req, res) => html(res, built() ? 200 : 503, built() ? lobbyPage() : unavailablePage()));
	router.get('/room', (req, res) => {
		const room = roomIdSchema.safeParse(req.query.room);
		const name = typeof req.query.name === 'string' ? req.query.name.slice(0, 64) : '';
		if (!room.success) {
			res.redirect(303, '/');
			return;
		}
		res.redirect(303, `/room/${encodeURIComponent(room.data)}?name=${encodeURIComponent(name)}`);
	});
	router.get('/room/:roomId', (req, res) => {
		const room = roomIdSchema.safeParse(req.params.roomId);
		if (!room.success) {
			res.redirect(303, '/');
			return;
		}
		html(res, built() ? 200 : 503, built() ? roomPage(room.data) : unavailablePage());
	});
	router.get('/signin', (_req, res) => calling(res, 'signin.js', () => signinPage('signin')));
	router.get('/signup', (_req, res) => calling(res, 'signin.js', () => signinPage('signup')));
	router.get('/directory', (req, res) => {
		const query = typeof req.query.q === 'string' ? req.query.q.slice(0, 64) : '';
		calling(res, 'calls.js', () => directoryPage(query));
	});
	router.get('/u/:handle', (req, res) => {
		const handle = handleSchema.safeParse(req.params.handle);
		if (!handle.success) {
			res.redirect(303, '/directory');
			return;
		}
		calling(res, 'calls.js', () => profilePage(handle.data));
	});
	router.get('/settings', (_req, res) => calling(res, 'calls.js', settingsPage));
	router.get('/history', (_req, res) => calling(res, 'calls.js', historyPage));
	router.get('/links', (_req, res) => calling(res, 'calls.js', linksPage));
	// NOTE: the same shell whatever `:id` is, well formed or not: the page alone tells nothing about a link.
	router.get('/l/:id', (_req, res) => calling(res, 'link.js', linkPage));
	router.get('/assets/offline.html', (_req, res) => html(res, 200, offlinePage()));
	router.use('/assets', express.static(publicDir, {
		index: false,
		fallthrough: true,
		setHeaders(res, file) {
			// NOTE: every load asks the node (an unchanged asset is a 304): an upgraded
			// node's bundle is used at the next load, never an old one from a cache.
			res.set('Cache-Control', 'no-cache');
			if (path.basename(file) === 'sw.js') {
				// The worker lives under /assets/ but controls every page.
				res.set('Service-Worker-Allowed', '/');
			}
		},
	}));
	return router;
}
