package permission_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/openguild/openguild/internal/permission"
)

func ExampleInChannel() {
	guild := permission.Guild{
		ID:      "guild-1",
		OwnerID: "user-owner",
		Roles: map[string]permission.Role{
			"guild-1":   {ID: "guild-1", Position: 0, Permissions: permission.EveryoneDefault},
			"role-mods": {ID: "role-mods", Position: 1, Permissions: permission.ManageMessages},
		},
	}

	// A category that only moderators can see, and a channel in it where
	// one moderator may not send messages.
	category := permission.Channel{
		ID: "category-staff",
		Overwrites: []permission.Overwrite{
			{Kind: permission.OverwriteRole, TargetID: "guild-1", Deny: permission.ViewChannel},
			{Kind: permission.OverwriteRole, TargetID: "role-mods", Allow: permission.ViewChannel},
		},
	}
	channel := permission.Channel{
		ID:       "channel-announcements",
		ParentID: category.ID,
		Overwrites: []permission.Overwrite{
			{Kind: permission.OverwriteMember, TargetID: "user-mod", Deny: permission.SendMessages},
		},
	}

	mod := permission.Member{UserID: "user-mod", RoleIDs: []string{"role-mods"}}
	guest := permission.Member{UserID: "user-guest"}

	fmt.Println(permission.InChannel(guild, mod, channel, &category).Names())
	fmt.Println(permission.InChannel(guild, guest, channel, &category).Names())

	// Output:
	// [VIEW_CHANNEL READ_MESSAGE_HISTORY MANAGE_MESSAGES ADD_REACTIONS ATTACH_FILES CREATE_INVITE CONNECT SPEAK CHANGE_NICKNAME]
	// []
}

func ExampleParseSet() {
	perms, err := permission.ParseSet("1027")
	fmt.Println(perms.Names(), err)

	_, err = permission.ParseSet("4194304")
	fmt.Println(errors.Is(err, permission.ErrInvalidSet))
	fmt.Println(err)

	// Output:
	// [VIEW_CHANNEL SEND_MESSAGES MANAGE_GUILD] <nil>
	// true
	// parse permission set "4194304": invalid permission set: undefined bits 22 (only bits 0 to 21 and 40 name permissions)
}

func ExampleSet_MarshalJSON() {
	role := struct {
		Name        string         `json:"name"`
		Permissions permission.Set `json:"permissions"`
	}{Name: "mods", Permissions: permission.ViewChannel | permission.ManageMessages}

	data, err := json.Marshal(role)
	fmt.Println(string(data), err)

	// Output:
	// {"name":"mods","permissions":"9"} <nil>
}

func ExampleCanActOn() {
	guild := permission.Guild{
		ID:      "guild-1",
		OwnerID: "user-owner",
		Roles: map[string]permission.Role{
			"guild-1":   {ID: "guild-1", Position: 0, Permissions: permission.EveryoneDefault},
			"role-mods": {ID: "role-mods", Position: 1, Permissions: permission.KickMembers},
		},
	}
	owner := permission.Member{UserID: "user-owner"}
	mod := permission.Member{UserID: "user-mod", RoleIDs: []string{"role-mods"}}
	guest := permission.Member{UserID: "user-guest"}

	// Kicking needs both KickMembers and a higher rank than the target.
	canKick := func(actor, target permission.Member) bool {
		return permission.Base(guild, actor).Has(permission.KickMembers) &&
			permission.CanActOn(guild, actor, target)
	}
	fmt.Println("mod kicks guest:", canKick(mod, guest))
	fmt.Println("mod kicks owner:", canKick(mod, owner))
	fmt.Println("owner kicks mod:", canKick(owner, mod))

	// Output:
	// mod kicks guest: true
	// mod kicks owner: false
	// owner kicks mod: true
}

func ExampleCache() {
	cache := permission.NewCache(10_000)
	key := permission.Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	stored := permission.EveryoneDefault
	load := func() (permission.Set, error) {
		fmt.Println("computing")
		return stored, nil
	}

	perms, _ := cache.GetOrCompute(key, load)
	fmt.Println(perms.Has(permission.SendMessages))
	perms, _ = cache.GetOrCompute(key, load)
	fmt.Println(perms.Has(permission.SendMessages))

	// A moderator revokes SEND_MESSAGES, and the next lookup computes anew.
	stored &^= permission.SendMessages
	cache.InvalidateGuild(key.GuildID)
	perms, _ = cache.GetOrCompute(key, load)
	fmt.Println(perms.Has(permission.SendMessages))

	// Output:
	// computing
	// true
	// true
	// computing
	// false
}

func ExampleCache_Put() {
	cache := permission.NewCache(10_000)
	key := permission.Key{GuildID: "guild-1", UserID: "user-a", ChannelID: "channel-1"}

	// Take the generation before reading the data the set depends on.
	gen := cache.Generation(key.GuildID)
	perms := permission.EveryoneDefault

	// The guild changes while the set is being computed.
	cache.InvalidateGuild(key.GuildID)

	fmt.Println(cache.Put(key, gen, perms))
	_, ok := cache.Get(key)
	fmt.Println(ok)

	// Output:
	// false
	// false
}
