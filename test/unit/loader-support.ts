// Builders for the loader's Workers-runtime tests: a Site as the router would resolve it, and requests against it.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { AcceptedEdgeConfigSchema } from "../../schemas/accepted-edge-config";
import type { EdgeConfig, EdgeConfigInput } from "../../schemas/edge-config";
import { handleLoader } from "../../workers/loader/handler";
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
