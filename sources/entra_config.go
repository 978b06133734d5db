package sources

import (
	"regexp"
)

// entraTenantRE is a tenant id (a GUID) or a domain name such as
// contoso.onmicrosoft.com; either names the tenant in the token URL.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
var entraTenantRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
