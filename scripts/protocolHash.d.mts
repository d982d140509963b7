export declare const protocolDir: string;
export declare const readmePath: string;
export declare function protocolHash(): string;
export declare function recordedHash(): string | undefined;
