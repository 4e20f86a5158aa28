package auth

import (
	"slices"
	"testing"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		role string
		want []Permission
	}{
		{"admin", RoleAdmin, AllPermissions},
		{"security officer", RoleSecurity, []Permission{PermSelf, PermDashboard, PermAssetRead, PermAssetWrite, PermOrgRead, PermUserRead,
			PermTrailRead, PermSupplyRead, PermSupplyWrite, PermFindingDecide, PermGateManage, PermDLPRead, PermDLPScan, PermDLPCheck, PermDLPManage,
			PermNotifyRead, PermNotifyManage, PermAlertRead, PermAlertManage, PermReferenceRead, PermReferenceManage, PermEventsIngest,
			PermMonitorRead, PermMonitorInvestigate, PermMonitorManage, PermAppRead, PermAppApply, PermAppReview, PermAppObserve, PermAppReport,
			PermRiskRead, PermRiskWrite, PermIncidentRead, PermIncidentWrite, PermComplianceRead, PermComplianceWrite, PermReportRead, PermReportWrite}},
		{"privacy officer", RolePrivacy, []Permission{PermSelf, PermDashboard, PermAssetRead, PermOrgRead, PermUserRead, PermTrailRead, PermSupplyRead,
			PermDLPRead, PermDLPScan, PermDLPCheck, PermDLPReveal, PermDLPManage, PermNotifyRead, PermAlertRead, PermAlertManage, PermReferenceRead, PermReferenceManage,
			PermMonitorRead, PermMonitorInvestigate, PermMonitorManage, PermAppRead, PermRiskRead, PermRiskWrite, PermIncidentRead, PermIncidentWrite,
			PermComplianceRead, PermComplianceWrite, PermReportRead, PermReportWrite}},
		{"auditor", RoleAuditor, []Permission{PermSelf, PermDashboard, PermAssetRead, PermOrgRead, PermUserRead, PermTrailRead, PermSupplyRead, PermDLPRead,
			PermNotifyRead, PermAlertRead, PermReferenceRead, PermMonitorRead, PermMonitorInvestigate, PermAppRead, PermRiskRead, PermIncidentRead, PermComplianceRead, PermReportRead}},
		{"it ops", RoleITOps, []Permission{PermSelf, PermDashboard, PermAssetRead, PermAssetWrite, PermOrgRead, PermSupplyRead, PermSupplyWrite,
			PermDLPRead, PermDLPScan, PermDLPCheck, PermNotifyRead, PermAlertRead, PermEventsIngest, PermAppRead, PermAppObserve, PermRiskRead,
			PermIncidentRead, PermIncidentWrite, PermComplianceRead}},
		{"app operator", RoleAppOperator, []Permission{PermSelf, PermDashboard, PermAssetRead, PermOrgRead, PermSupplyRead, PermAppRead, PermAppApply,
			PermAppObserve, PermAppReport}},
		{"regulator", RoleRegulator, []Permission{PermSelf, PermDashboard, PermAssetRead, PermOrgRead, PermUserRead, PermTrailRead, PermSupplyRead, PermDLPRead,
			PermAlertRead, PermMonitorRead, PermAppRead, PermRiskRead, PermIncidentRead, PermComplianceRead, PermReportRead}},
		{"unknown role", "root", nil},
		{"empty role", "", nil},
		{"system is not a role", "system", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range AllPermissions {
				if got, want := Allowed(tt.role, p), slices.Contains(tt.want, p); got != want {
					t.Errorf("Allowed(%q, %q) = %v, want %v", tt.role, p, got, want)
				}
			}
			if got := Permissions(tt.role); !slices.Equal(got, tt.want) {
				t.Errorf("Permissions(%q) = %v, want %v", tt.role, got, tt.want)
			}
			if Allowed(tt.role, Permission("made.up")) {
				t.Errorf("Allowed(%q, made.up) = true", tt.role)
			}
		})
	}
}

func TestRolesAllHaveEntries(t *testing.T) {
	t.Parallel()
	if len(Roles) != len(rolePermissions) {
		t.Fatalf("Roles has %d entries, the table %d", len(Roles), len(rolePermissions))
	}
	for _, r := range Roles {
		if !KnownRole(r) {
			t.Errorf("role %q is not in the permission table", r)
		}
	}
	// Only admin manages; read-only roles never write.
	for _, p := range []Permission{PermAssetWrite, PermOrgManage, PermUserManage, PermSupplyWrite, PermFindingDecide,
		PermGateManage, PermVulnDBManage} {
		if Allowed(RolePrivacy, p) {
			t.Errorf("the privacy officer holds %s", p)
		}
	}
	// Raw patient values: the administrator and the privacy officer only.
	for _, r := range Roles {
		if got, want := Allowed(r, PermDLPReveal), r == RoleAdmin || r == RolePrivacy; got != want {
			t.Errorf("Allowed(%s, dlp.reveal) = %v, want %v", r, got, want)
		}
	}
	for _, r := range []string{RoleAuditor, RoleRegulator, RoleAppOperator} {
		for _, p := range []Permission{PermAssetWrite, PermOrgManage, PermUserManage, PermSupplyWrite, PermFindingDecide,
			PermGateManage, PermVulnDBManage, PermDLPScan, PermDLPReveal, PermDLPManage, PermAlertManage, PermReferenceManage} {
			if Allowed(r, p) {
				t.Errorf("read-only role %s holds %s", r, p)
			}
		}
	}
}

func TestTokenPermits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		scope string
		role  string
		perm  Permission
		want  bool
	}{
		{"read token reads", ScopeRead, RoleITOps, PermAssetRead, true},
		{"read token cannot write", ScopeRead, RoleITOps, PermAssetWrite, false},
		{"read token cannot act on self", ScopeRead, RoleAdmin, PermSelf, false},
		{"write token writes", ScopeWrite, RoleITOps, PermAssetWrite, true},
		{"write token bounded by role", ScopeWrite, RoleAuditor, PermAssetWrite, false},
		{"write token, unknown role", ScopeWrite, "ghost", PermAssetRead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Token{Scope: tt.scope}).Permits(tt.role, tt.perm); got != tt.want {
				t.Errorf("Permits = %v, want %v", got, tt.want)
			}
		})
	}
}
