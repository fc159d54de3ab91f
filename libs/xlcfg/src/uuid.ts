// A domain or vTPM UUID as libuuid's uuid_parse (behind libxl_uuid_from_string) accepts it: 36
// characters, hex digits in either case with hyphens at 8, 13, 18 and 23. Returned in lowercase.
export function parseUuid(s: string): string | undefined {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)
    ? s.toLowerCase()
    : undefined;
}
