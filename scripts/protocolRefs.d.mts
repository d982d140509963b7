export declare const protocolDir: string;
export declare const refsPath: string;
export declare function protocolDefs(): Promise<
  { module: string; name: string; kind: 'request' | 'notification'; method: string; direction: string }[]
>;
export declare function renderMethodRefs(): Promise<string>;
