import fs from 'node:fs';
import path from 'node:path';
import type { Router } from 'express';
import type { AccountService } from '../../src/accounts';
import type { CallService } from '../../src/calls';
import type { CallLinks, LinkLobby } from '../../src/links';
import { ApiKeys, type TokenService } from '../../src/auth';
import { loadConfig } from '../../src/config';
import { ERROR_CODES } from '../../src/errors';
import { memoryLimiters } from '../../src/cluster';
import { accountRoutes, apiRoutes as serverApiRoutes, clusterRoutes, devRoutes, healthRoutes, linkRoutes, lobbyRoutes, reportRoutes } from '../../src/http';
import type { WorkerPool } from '../../src/media';
import type { RoomService } from '../../src/rooms';
import type { Metrics } from '../../src/metrics';
import { webRoutes } from '../../src/web';

const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'http-api.md'), 'utf8');
const lines = doc.split(/\r?\n/);

type Layer = { route?: { path: unknown; methods: Record<string, boolean> }; rawPath?: unknown; name: string };

/**
 * The routes a router registers, as "METHOD /path", read from its express 5
 * stack. A static folder mounted with `use` is "GET /folder/*".
 */
function routesOf(router: Router): string[] {
	return (router.stack as unknown as Layer[]).flatMap((layer) => {
		if (layer.route) {
			const { path: routePath, methods } = layer.route;
			if (typeof routePath !== 'string') {
				throw new Error(`a route path that is not a string: ${String(routePath)}`);
			}
			return Object.keys(methods).filter((method) => methods[method]).map((method) => `${method.toUpperCase()} ${routePath}`);
		}
		return layer.name === 'serveStatic' ? [`GET ${String(layer.rawPath)}/*`] : [];
	});
}

// NOTE: building a router only registers handlers; none of these stubs is called.
const config = loadConfig({ env: {} });
const apiRoutes = [
	...routesOf(accountRoutes({ accounts: {} as AccountService, config: config.accounts, limiters: memoryLimiters })),
	...routesOf(clusterRoutes({ accounts: {} as AccountService, cluster: undefined })),
	...routesOf(reportRoutes({ accounts: {} as AccountService, calls: {} as CallService, config, limiters: memoryLimiters })),
	...routesOf(linkRoutes({ accounts: {} as AccountService, links: {} as CallLinks, config, limiters: memoryLimiters })),
	...routesOf(lobbyRoutes({ accounts: {} as AccountService, lobby: {} as LinkLobby, config, limiters: memoryLimiters })),
	...routesOf(serverApiRoutes({ keys: new ApiKeys([]), tokens: {} as TokenService, rooms: {} as RoomService, config, limiters: memoryLimiters })),
	...routesOf(healthRoutes({ pool: {} as WorkerPool, metrics: {} as Metrics, metricsToken: null, draining: () => false })),
	...routesOf(devRoutes({ tokens: {} as TokenService, perMinute: config.auth.devTokensPerMinute })),
];
const pageRoutes = routesOf(webRoutes());
const codeRoutes = [...apiRoutes, ...pageRoutes];

/** The routes in the first column of the route table: rows "| `METHOD /path` | ...". */
const tableRoutes = lines.flatMap((line) => {
	const match = /^\| `([A-Z]+ \/[^`]*)` \|/.exec(line);
	return match ? [match[1]!] : [];
});

const routeIn = (text: string) => [...text.matchAll(/`([A-Z]+ \/[^`]*)`/g)].map((m) => m[1]!);

/** "### " headings that name routes, with the routes they name and the lines of their section. */
const routeSections = lines.flatMap((line, i) => {
	if (!line.startsWith('### ')) {
		return [];
	}
	const routes = routeIn(line);
	const end = lines.findIndex((next, j) => j > i && /^#{1,3} /.test(next));
	return routes.length > 0 ? [{ heading: line, routes, body: lines.slice(i + 1, end < 0 ? undefined : end) }] : [];
});
const headingRoutes = routeSections.flatMap((section) => section.routes);

/** Every error the page names as `STATUS code`, anywhere. */
const namedErrors = [...doc.matchAll(/`(\d{3}) ([a-z_]+)`/g)].map((m) => ({ status: Number(m[1]), code: m[2]! }));

describe('docs/http-api.md', () => {
	test('the routers register the routes this test expects to find', () => {
		// Guards against a stack reader that silently finds nothing, or misses the relations loop.
		for (const kind of ['contacts', 'follows', 'blocks']) {
			expect(apiRoutes).toEqual(expect.arrayContaining([`GET /api/me/${kind}`, `PUT /api/me/${kind}/:handle`, `DELETE /api/me/${kind}/:handle`]));
		}
		expect(apiRoutes).toEqual(expect.arrayContaining(['POST /api/auth/signup', 'GET /healthz', 'GET /metrics', 'POST /api/dev/token']));
		expect(pageRoutes).toEqual(expect.arrayContaining(['GET /', 'GET /assets/*']));
	});

	test.each(codeRoutes)('has a row in the route table for %s', (route) => {
		expect(tableRoutes).toContain(route);
	});

	test.each(codeRoutes)('has a section heading naming %s', (route) => {
		expect(headingRoutes).toContain(route);
	});

	test('names no route in its table or headings that the code lacks', () => {
		expect(tableRoutes.filter((route) => !codeRoutes.includes(route))).toEqual([]);
		expect(headingRoutes.filter((route) => !codeRoutes.includes(route))).toEqual([]);
	});

	test('lists each route once in the table', () => {
		expect(new Set(tableRoutes).size).toBe(tableRoutes.length);
	});

	test.each(routeSections.map((section) => [section.heading, section] as const))('the section %s has one "Errors:" line', (_heading, section) => {
		expect(section.body.filter((line) => line.startsWith('Errors:'))).toHaveLength(1);
	});

	test('names only error codes that exist, each with its status', () => {
		// Guards against a parser that silently finds nothing.
		expect(namedErrors.length).toBeGreaterThan(apiRoutes.length);
		const wrong = namedErrors.filter(({ status, code }) =>
			!Object.prototype.hasOwnProperty.call(ERROR_CODES, code) || ERROR_CODES[code as keyof typeof ERROR_CODES].status !== status);
		expect(wrong).toEqual([]);
	});

	test('writes every error on an "Errors:" line as `STATUS code`', () => {
		const quoted = lines.filter((line) => line.startsWith('Errors:')).flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
		expect(quoted.filter((text) => !/^\d{3} [a-z_]+$/.test(text))).toEqual([]);
	});

	test('names only config keys that exist', () => {
		const sections = Object.keys(config).join('|');
		const keys = [...doc.matchAll(new RegExp(`\`((?:${sections})\\.[A-Za-z]+)\``, 'g'))].map((m) => m[1]!);
		expect(keys.length).toBeGreaterThan(5);
		const missing = keys.filter((key) => {
			const [section, name] = key.split('.') as [string, string];
			return !Object.prototype.hasOwnProperty.call((config as Record<string, object>)[section], name);
		});
		expect(missing).toEqual([]);
	});
});
