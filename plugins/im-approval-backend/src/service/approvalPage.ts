/** An approval's page in the Backstage app, when the app's URL (`app.baseUrl`) is known. */
export function approvalPage(
  appBaseUrl: string | undefined,
  id: string,
): string | undefined {
  return appBaseUrl
    ? `${appBaseUrl.replace(/\/+$/, '')}/im-approval/approvals/${id}`
    : undefined;
}
