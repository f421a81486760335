import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { roomId as roomIdSchema } from '../signaling/schemas';
import { lobbyPage, roomPage, unavailablePage } from './pages';

/** Where scripts/build-client.mjs writes the bundle. */
export const PUBLIC_DIR = path.resolve(__dirname, '..', '..', 'dist', 'public');

/**
 * The web client: GET / (lobby), GET /room?name=&room= (the lobby's form),
 * GET /room/:roomId?name= (joins at once), and the bundle under /assets/.
 * Without a built bundle the pages answer 503 with how to build it.
 */
export function webRoutes({ publicDir = PUBLIC_DIR }: { publicDir?: string } = {}): Router {
	const router = Router();
	const built = () => fs.existsSync(path.join(publicDir, 'room.js'));
	const html = (res: express.Response, status: number, body: string) =>
		res.status(status).type('html').set('Cache-Control', 'no-store').send(body);

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
	router.use('/assets', express.static(publicDir, { index: false, maxAge: '1h', fallthrough: true }));
	return router;
}
