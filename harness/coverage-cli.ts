export async function coverageCommand(_argv: string[]): Promise<number> { return 2; }
