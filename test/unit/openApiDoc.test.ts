import fs from 'node:fs';
import path from 'node:path';
import { validate } from '@readme/openapi-parser';
import type { Router } from 'express';
import { parse } from 'yaml';
import type { AccountService } from '../../src/accounts';
import type { CallService } from '../../src/calls';
import type { CallLinks, LinkLobby } from '../../src/links';
import { ApiKeys, type TokenService } from '../../src/auth';
import { API_SCOPES, loadConfig } from '../../src/config';
import { ERROR_CODES } from '../../src/errors';
import { memoryLimiters } from '../../src/cluster';
import { accountRoutes, apiRoutes as serverApiRoutes, clusterRoutes, devRoutes, healthRoutes, linkRoutes, lobbyRoutes, reportRoutes } from '../../src/http';
import type { WorkerPool } from '../../src/media';
import type { RoomService } from '../../src/rooms';
import type { Metrics } from '../../src/metrics';
import { webRoutes } from '../../src/web';

const docsDir = path.resolve(__dirname, '..', '..', 'docs');
const yamlText = fs.readFileSync(path.join(docsDir, 'openapi.yaml'), 'utf8');
const proseText = fs.readFileSync(path.join(docsDir, 'http-api.md'), 'utf8');

type Json = Record<string, unknown>;
type Operation = { summary?: unknown; operationId?: unknown; tags?: unknown; security?: unknown; parameters?: unknown; requestBody?: unknown; responses?: Json; 'x-rate-limit'?: unknown };
type PathItem = Json & { parameters?: unknown };
const doc = parse(yamlText) as { openapi: unknown; tags?: { name: string }[]; paths: Record<string, PathItem>; components: Record<string, Json> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
/** What a static folder mounted at `/folder` is in the document: `GET /folder/{file}`. */
const STATIC_PARAM = '{file}';

type Layer = { route?: { path: unknown; methods: Record<string, boolean> }; rawPath?: unknown; name: string };

/**
 * The routes a router registers, as "METHOD /path" in OpenAPI's spelling
 * (`/:id` is `/{id}`), read from its express 5 stack.
 */
function routesOf(router: Router): string[] {
	return (router.stack as unknown as Layer[]).flatMap((layer) => {
		if (layer.route) {
			const { path: routePath, methods } = layer.route;
			if (typeof routePath !== 'string') {
				throw new Error(`a route path that is not a string: ${String(routePath)}`);
			}
			const openApiPath = routePath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
			return Object.keys(methods).filter((method) => methods[method]).map((method) => `${method.toUpperCase()} ${openApiPath}`);
		}
		return layer.name === 'serveStatic' ? [`GET ${String(layer.rawPath)}/${STATIC_PARAM}`] : [];
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

const operations = Object.entries(doc.paths ?? {}).flatMap(([route, item]) => METHODS.filter((method) => item[method] !== undefined)
	.map((method) => ({ name: `${method.toUpperCase()} ${route}`, route, item, op: item[method] as Operation })));
const documented = operations.map((o) => o.name);

/** The value a local `$ref` ("#/components/...") points at, or undefined. */
function target(ref: string): unknown {
	if (!ref.startsWith('#/')) {
		return undefined;
	}
	return ref.slice(2).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
		.reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Json)[part] : undefined), doc);
}

/** Follows `$ref`s to the object they end at, with the name of the last component on the way. */
function resolve(value: unknown): { value: Json; name?: string } {
	let node = value as Json;
	let name: string | undefined;
	for (let hops = 0; typeof node?.$ref === 'string' && hops < 10; hops++) {
		name = node.$ref.split('/').at(-1);
		node = target(node.$ref) as Json;
	}
	return { value: node, name };
}

/** Every `$ref` in the document. */
function refsIn(node: unknown): string[] {
	if (Array.isArray(node)) {
		return node.flatMap(refsIn);
	}
	if (node === null || typeof node !== 'object') {
		return [];
	}
	return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}

const errorComponents = Object.keys(doc.components?.responses ?? {}).filter((name) => Object.prototype.hasOwnProperty.call(ERROR_CODES, name));
const errorStatus = (code: string) => ERROR_CODES[code as keyof typeof ERROR_CODES].status;

describe('docs/openapi.yaml', () => {
	test('the routers register the routes this test expects to find', () => {
		// Guards against a stack reader that silently finds nothing, or misses the relations loop.
		for (const kind of ['contacts', 'follows', 'blocks']) {
			expect(apiRoutes).toEqual(expect.arrayContaining([`GET /api/me/${kind}`, `PUT /api/me/${kind}/{handle}`, `DELETE /api/me/${kind}/{handle}`]));
		}
		expect(apiRoutes).toEqual(expect.arrayContaining(['POST /api/auth/signup', 'GET /healthz', 'GET /metrics', 'POST /api/dev/token', 'GET /api/v1/rooms']));
		expect(pageRoutes).toEqual(expect.arrayContaining(['GET /', `GET /assets/${STATIC_PARAM}`]));
		expect(operations.length).toBeGreaterThan(40);
	});

	test.each(codeRoutes)('documents the route %s', (route) => {
		if (!documented.includes(route)) {
			throw new Error(`${route} is registered by the code but has no operation in docs/openapi.yaml`);
		}
	});

	test('documents no operation the code lacks; the code registers each route once', () => {
		expect(documented.filter((route) => !codeRoutes.includes(route))).toEqual([]);
		expect(new Set(codeRoutes).size).toBe(codeRoutes.length);
	});

	test('is OpenAPI 3.1, valid against its schema', async () => {
		expect(String(doc.openapi)).toMatch(/^3\.1\.\d+$/);
		// NOTE: a copy of its own: the validator may dereference what it is given.
		const result = await validate(parse(yamlText) as Parameters<typeof validate>[0]);
		expect(result).toEqual({ valid: true, warnings: [], specification: 'OpenAPI' });
	});

	test('resolves every $ref', () => {
		const refs = refsIn(doc);
		expect(refs.length).toBeGreaterThan(100);
		expect([...new Set(refs)].filter((ref) => target(ref) === undefined)).toEqual([]);
	});

	test.each(operations.map((o) => [o.name, o] as const))('%s has a summary, a unique operationId, known tags, security and responses', (_name, { op }) => {
		expect(typeof op.summary === 'string' && op.summary.length > 0).toBe(true);
		expect(typeof op.operationId).toBe('string');
		expect(operations.filter((other) => other.op.operationId === op.operationId)).toHaveLength(1);
		const tags = (doc.tags ?? []).map((tag) => tag.name);
		expect(Array.isArray(op.tags) && op.tags.length > 0 && op.tags.every((tag) => tags.includes(tag))).toBe(true);
		expect(Array.isArray(op.security)).toBe(true);
		expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
	});

	test.each(operations.map((o) => [o.name, o] as const))('%s declares exactly the parameters of its path', (_name, { route, item, op }) => {
		const declared = [...(item.parameters as unknown[] ?? []), ...(op.parameters as unknown[] ?? [])].map((p) => resolve(p).value)
			.filter((p) => p.in === 'path');
		expect(declared.every((p) => p.required === true)).toBe(true);
		const inPath = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
		expect(declared.map((p) => p.name).sort()).toEqual(inPath.sort());
	});

	test.each(operations.map((o) => [o.name, o] as const))('%s names only security schemes and API scopes that exist', (_name, { op }) => {
		const schemes = doc.components?.securitySchemes ?? {};
		for (const requirement of op.security as Record<string, string[]>[]) {
			for (const [scheme, scopes] of Object.entries(requirement)) {
				expect(Object.keys(schemes)).toContain(scheme);
				expect(scopes.filter((scope) => !(API_SCOPES as readonly string[]).includes(scope))).toEqual([]);
			}
		}
	});

	test('each error response is one catalogue code, answered with its status', () => {
		expect(errorComponents.length).toBeGreaterThan(5);
		// The component named after a code says that code in its schema.
		const unnamed = errorComponents.filter((code) => !JSON.stringify(resolve(doc.components.responses![code]).value).includes(`"const":"${code}"`));
		expect(unnamed).toEqual([]);
		const wrong = operations.flatMap(({ name, route, op }) => Object.entries(op.responses ?? {}).flatMap(([status, response]) => {
			const code = resolve(response).name;
			const isError = code !== undefined && errorComponents.includes(code);
			if (isError ? String(errorStatus(code)) !== status : route.startsWith('/api') && Number(status) >= 400) {
				return [`${name} ${status} ${code ?? 'inline'}`];
			}
			return [];
		}));
		expect(wrong).toEqual([]);
	});

	test.each(operations.filter((o) => o.route.startsWith('/api')).map((o) => [o.name, o] as const))(
		'%s lists the errors every /api route can get, 401 when it needs a token, 429 with a rate limit', (_name, { op }) => {
			const responses = op.responses ?? {};
			expect(resolve(responses.default).name).toBe('apiError');
			const needsToken = (op.security as Json[]).length > 0 && (op.security as Json[]).every((requirement) => Object.keys(requirement).length > 0);
			expect(!needsToken || '401' in responses).toBe(true);
			expect('429' in responses).toBe(op['x-rate-limit'] !== undefined);
		});

	test.each(operations.filter((o) => o.op.requestBody !== undefined).map((o) => [o.name, o] as const))('%s refuses unknown body fields, as its zod schema does', (_name, { op }) => {
		const content = (resolve(op.requestBody).value.content ?? {}) as Record<string, { schema?: unknown }>;
		const schema = resolve(content['application/json']?.schema).value;
		expect(schema.type).toBe('object');
		expect(schema.additionalProperties).toBe(false);
	});
});

describe('docs/http-api.md', () => {
	test('is prose beside docs/openapi.yaml, with no route table', () => {
		expect(proseText.includes('openapi.yaml')).toBe(true);
		expect(proseText).not.toMatch(/^\| `[A-Z]+ \//m);
	});

	test('names only routes that docs/openapi.yaml documents', () => {
		const named = [...proseText.matchAll(/`([A-Z]+ \/[^`\s]*)`/g)].map((m) => m[1]!.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\?.*$/, ''));
		expect(named.length).toBeGreaterThan(5);
		expect(named.filter((route) => !documented.includes(route))).toEqual([]);
	});

	test('names only error codes that exist, each with its status', () => {
		const named = [...(proseText + yamlText).matchAll(/`(\d{3}) ([a-z_]+)`/g)].map((m) => ({ status: Number(m[1]), code: m[2]! }));
		// Guards against a parser that silently finds nothing.
		expect(named.length).toBeGreaterThan(10);
		const wrong = named.filter(({ status, code }) =>
			!Object.prototype.hasOwnProperty.call(ERROR_CODES, code) || errorStatus(code) !== status);
		expect(wrong).toEqual([]);
	});

	test('names only config keys that exist, here and in docs/openapi.yaml', () => {
		const sections = Object.keys(config).join('|');
		const keys = [...(proseText + yamlText).matchAll(new RegExp(`\`((?:${sections})\\.[A-Za-z]+)\``, 'g'))].map((m) => m[1]!);
		expect(keys.length).toBeGreaterThan(5);
		const missing = keys.filter((key) => {
			const [section, name] = key.split('.') as [string, string];
			return !Object.prototype.hasOwnProperty.call((config as Record<string, object>)[section], name);
		});
		expect(missing).toEqual([]);
	});
});
