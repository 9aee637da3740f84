// Builders for the loader's Workers-runtime tests: a Site as the router would resolve it, and requests against it.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { expect, vi } from "vitest";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import type { EdgeConfig, EdgeConfigInput } from "../../schemas/edge-config";
import type { BootResponse } from "../../schemas/loader";
import { IDENTITY_PROOF, parseCookieHeader } from "../../workers/loader/cookies";
import { handleLoader } from "../../workers/loader/handler";
import { identityProof } from "../../workers/loader/identity-proof";
import type { Site } from "../../workers/shared/site";
import { edgeConfig } from "../support/fixtures";

export function loaderConfig(overrides: Partial<EdgeConfigInput> = {}): EdgeConfig {
  return v.parse(AcceptedEdgeConfigSchema, edgeConfig(overrides));
}

export function siteFor(config: EdgeConfig, path: string, options: { publicHost?: string; mountPrefix?: string } = {}): Site {
  const publicHost = options.publicHost ?? `ss.${config.containerId}.example`;
  const mountPrefix = options.mountPrefix ?? "";
  return {
    containerId: config.containerId,
    config,
    publicHost,
    mountPrefix,
    path,
    url: new URL(`https://${publicHost}${mountPrefix}${path}`),
    startedAt: Date.now(),
  };
}

/** Calls the loader as the router does and waits for its background work (vault writes) to finish. */
export async function callLoader(site: Site, init: RequestInit = {}): Promise<Response | null> {
  const ctx = createExecutionContext();
  const response = await handleLoader(new Request(site.url, init), env, ctx, site);
  await waitOnExecutionContext(ctx);
  return response;
}

/** callLoader for a path that must be a loader path. */
export async function loaderResponse(site: Site, init: RequestInit = {}): Promise<Response> {
  const response = await callLoader(site, init);
  if (response === null) throw new Error(`${site.path} was not handled by the loader`);
  return response;
}

export async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** A container whose loader token is registered in LOADER_TOKEN_MAP, as the sync consumer would leave it. */
export async function registeredConfig(overrides: Partial<EdgeConfigInput> = {}): Promise<EdgeConfig> {
  const config = loaderConfig(overrides);
  await env.LOADER_TOKEN_MAP.put(config.loaderToken, config.containerId);
  return config;
}

/** A container with the loader test defaults (every module on, `ss.<id>.example`). */
export function config(containerId: string, overrides: Partial<EdgeConfigInput> = {}): EdgeConfig {
  return loaderConfig({ containerId, ...overrides });
}

/** A Cookie header pair for an FPID the edge would accept. */
export const FPID = (id: string) => `FPID=FPID2.2.${id}.1700000000`;

/**
 * POST /boot on `site` (default: the container's ss. host over https) with `cookies` as the page sends them. An
 * identity cookie in `cookie` goes with the edge's proof `_qxi`, as a browser the edge issued it to sends it; with
 * `vouched: false` it goes bare, as from a client that made it up.
 */
export async function boot(
  config: EdgeConfig,
  cookies: Record<string, string>,
  init: { cookie?: string; headers?: Record<string, string>; site?: Site; vouched?: boolean } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie) {
    const identity = parseCookieHeader(init.cookie).get(config.identityCookie);
    const vouch = init.vouched !== false && identity !== undefined && !init.cookie.includes(`${IDENTITY_PROOF}=`);
    headers.Cookie = vouch ? `${init.cookie}; ${IDENTITY_PROOF}=${await identityProof(env, config.containerId, identity)}` : init.cookie;
  }
  return loaderResponse(init.site ?? siteFor(config, "/boot"), { method: "POST", headers, body: JSON.stringify({ cookies }) });
}

/** A session id the edge started for `config`'s container, as a page gets it from /boot. */
export async function startedSession(config: EdgeConfig): Promise<string> {
  const response = await boot(config, {});
  return ((await response.json()) as BootResponse).sessionId;
}

/** The Set-Cookie header the answer has for `name`, or null. */
export function setCookie(response: Response, name: string): string | null {
  return response.headers.getSetCookie().find((header) => header.startsWith(`${name}=`)) ?? null;
}

export async function restored(response: Response): Promise<BootResponse["restoreCookies"]> {
  expect(response.status).toBe(200);
  return ((await response.json()) as BootResponse).restoreCookies;
}

/** Spies on COOKIE_VAULT's get and put (calls go through to the real KV); vi.restoreAllMocks() removes them. */
export function spyVault() {
  return { get: vi.spyOn(env.COOKIE_VAULT, "get"), put: vi.spyOn(env.COOKIE_VAULT, "put") };
}
