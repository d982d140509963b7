/** The product version, injected by esbuild from package.json (`dev` when run from source). */
declare const __ORCHESTRATOR_VERSION__: string | undefined;
export const version: string = typeof __ORCHESTRATOR_VERSION__ === 'string' ? __ORCHESTRATOR_VERSION__ : 'dev';
