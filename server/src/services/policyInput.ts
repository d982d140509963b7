/**
 * What the permission policy needs besides the request (design.md §5): the real location of every path it
 * names (symlinks followed) and what each shell wildcard matches. Shared by the local runs and the team
 * workers, so both judge `cat docs/.ssh/id_rsa` by where `docs` really points.
 */
import {
  decidePermission,
  requestGlobs,
  requestPaths,
  type PolicyConfig,
  type PolicyRequest,
  type PolicyVerdict,
} from '../domain/permissionPolicy';
import type { PathResolverPort } from '../ports/pathResolver';

export interface ResolvedPolicyInput {
  /** The request with `home`, `expanded` and `resolved` filled in. */
  request: PolicyRequest;
  /** The paths of `requestPaths`, in order (`request.resolved` maps each to its real location). */
  paths: string[];
}

/** Fills in the home folder, the wildcards' matches and the real paths of `base` (`config` as `decidePermission` takes it). */
export async function resolvePolicyInput(
  base: PolicyRequest,
  resolver: PathResolverPort,
  config?: PolicyConfig,
): Promise<ResolvedPolicyInput> {
  const request: PolicyRequest = { ...base, home: base.home ?? resolver.home() };
  const globs = requestGlobs(request, config);
  if (globs.length)
    request.expanded = Object.fromEntries(await Promise.all(globs.map(async (g) => [g, await resolver.expand(g)] as const)));
  const paths = requestPaths(request, config);
  request.resolved = Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await resolver.resolve(p)] as const)));
  return { request, paths };
}

/** `decidePermission` on the resolved request. */
export async function decideResolved(
  base: PolicyRequest,
  resolver: PathResolverPort,
  config?: PolicyConfig,
): Promise<PolicyVerdict & ResolvedPolicyInput> {
  const input = await resolvePolicyInput(base, resolver, config);
  return { ...decidePermission(input.request, config), ...input };
}
