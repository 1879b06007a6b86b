package teams

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"

	"golang.org/x/image/draw"
)

// MaxImageWidth is the widest picture slabot sends beside a card: Teams
// shows wider ones scaled down or cropped in the chat, and the contract
// (design.md, "Channels") caps the report's chart at 1024 px.
const MaxImageWidth = 1024

// ImageAttachment carries a PNG inline as a data: URL, the way the weekly
// report sends its chart beside the card; a PNG wider than MaxImageWidth
// is scaled down to it first.
func ImageAttachment(pngData []byte, name string) Attachment {
	return Attachment{
		ContentType: "image/png",
		ContentURL:  "data:image/png;base64," + base64.StdEncoding.EncodeToString(fitWidth(pngData, MaxImageWidth)),
		Name:        name,
	}
}

// fitWidth scales a PNG down, keeping its proportions, to at most width
// pixels wide. A PNG that fits, or bytes that are no PNG, are returned as
// they are.
func fitWidth(pngData []byte, width int) []byte {
	cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
	if err != nil || cfg.Width <= width {
		return pngData
	}
	src, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return pngData
	}
	height := max(1, cfg.Height*width/cfg.Width)
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	// BiLinear, not CatmullRom: a quarter of the taps for a picture of
	// flat colours and text, where the sharper kernel shows no difference.
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return pngData
	}
	return out.Bytes()
}
