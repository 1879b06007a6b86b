package teams

import (
	"context"
	"net/http"
	"net/url"
)

// Member is a person in a conversation as the connector describes them.
type Member struct {
	ID                string `json:"id"`
	Name              string `json:"name,omitempty"`
	AADObjectID       string `json:"aadObjectId,omitempty"`
	Email             string `json:"email,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	TenantID          string `json:"tenantId,omitempty"`
}

// Member looks one member of a conversation up by their 29: id (or Entra
// object id): GET v3/conversations/{id}/members/{memberId}, which Teams
// answers in personal, group and team conversations alike (Bot Framework
// SDK's TeamsInfo.GetMemberAsync,
// https://learn.microsoft.com/dotnet/api/microsoft.bot.builder.teams.teamsinfo.getmemberasync).
func (c *Connector) Member(ctx context.Context, serviceURL, conversationID, memberID string) (Member, error) {
	var m Member
	path := "v3/conversations/" + url.PathEscape(conversationID) + "/members/" + url.PathEscape(memberID)
	err := c.do(ctx, http.MethodGet, serviceURL, path, nil, &m)
	return m, err
}
