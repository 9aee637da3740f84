// The Analytics Engine SQL API stand-in's URL, as the global setup provides it (analytics-sql-stand-in.global.mjs).
declare module "vitest" {
  export interface ProvidedContext {
    analyticsSqlStandInUrl: string;
  }
}

export {};
