// GitHub-style page slicing and `Link` headers.
// Matches the paginate-issues fixture: links keep the request's other query parameters in order,
// put `page` last, use the /repositories/{id}/... form for repository resources,
// and are ordered prev, next, last, first. No Link header when everything fits on page 1.

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

export function pageParams(url: URL): { perPage: number; page: number } {
  const rawPerPage = Number.parseInt(url.searchParams.get("per_page") ?? "", 10);
  const rawPage = Number.parseInt(url.searchParams.get("page") ?? "", 10);
  const perPage = Number.isFinite(rawPerPage) && rawPerPage > 0 ? Math.min(rawPerPage, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
  const page = Number.isFinite(rawPage) && rawPage > 0 ? rawPage : 1;
  return { perPage, page };
}

/**
 * @param linkPath absolute URL (origin + path) the Link header entries should point at
 */
export function paginate<T>(items: T[], url: URL, linkPath: string): { items: T[]; link: string | undefined } {
  const { perPage, page } = pageParams(url);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const at = (n: number) => {
    const params = new URLSearchParams(url.searchParams);
    params.delete("page");
    params.append("page", String(n));
    return `<${linkPath}?${params.toString()}>`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(`${at(Math.min(page - 1, lastPage))}; rel="prev"`);
  if (page < lastPage) parts.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
  if (page > 1) parts.push(`${at(1)}; rel="first"`);
  return { items: slice, link: parts.length ? parts.join(", ") : undefined };
}
