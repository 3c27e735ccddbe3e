export async function reduceCommand(_argv: string[]): Promise<number> { return 2; }
