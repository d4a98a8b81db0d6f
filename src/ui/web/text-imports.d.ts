// The page's files, imported as text (`with { type: "text" }`). Named one by one: Bun's own
// types declare every "*.html" an HTML bundle, and a catch-all "*.js" would hide real mistakes.
declare module "*/status-page.html" {
  const text: string;
  export default text;
}
declare module "*/status.js" {
  const text: string;
  export default text;
}
declare module "*/status.css" {
  const text: string;
  export default text;
}
declare module "*/favicon.svg" {
  const text: string;
  export default text;
}
