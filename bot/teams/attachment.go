package teams

import "encoding/base64"

// ImageAttachment carries a PNG inline as a data: URL, the way the weekly
// report sends its chart beside the card.
func ImageAttachment(png []byte, name string) Attachment {
	return Attachment{
		ContentType: "image/png",
		ContentURL:  "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		Name:        name,
	}
}
