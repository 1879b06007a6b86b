// Command teamspkg builds the Microsoft Teams app package of slabot: the
// manifest of manifests/teams with TEAMS_APP_ID filled in, and its two
// icons, zipped at the root of bin/slabot-teams.zip as Teams wants them.
//
//	TEAMS_APP_ID=… go run ./scripts/teamspkg              (make teams-package)
//	go run ./scripts/teamspkg -write-icons manifests/teams  (redraw the icons)
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("manifest", "manifests/teams", "directory holding manifest.json, color.png and outline.png")
	out := flag.String("out", "bin/slabot-teams.zip", "package to write")
	appID := flag.String("app-id", os.Getenv("TEAMS_APP_ID"), "the bot's Microsoft app id (default $TEAMS_APP_ID)")
	writeIcons := flag.String("write-icons", "", "draw color.png and outline.png into this directory and exit")
	flag.Parse()

	if *writeIcons != "" {
		if err := writeIconFiles(*writeIcons); err != nil {
			fmt.Fprintln(os.Stderr, "teamspkg:", err)
			os.Exit(1)
		}
		return
	}
	if err := buildPackage(*dir, *out, *appID); err != nil {
		fmt.Fprintln(os.Stderr, "teamspkg:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s for app %s\n", *out, *appID)
}
