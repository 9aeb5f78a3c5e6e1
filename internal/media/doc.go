// Package media provides uploads, downloads and thumbnails of files that
// users attach to messages, kept in an object store and described by rows
// in the database.
//
// # Storage
//
// A file's bytes are stored once per distinct content, under a key made
// from their SHA-256 ("sha256/ab/abcdef…"), in an [objectstore.Store]. A
// media row records one upload of them: the uploader, the sanitised file
// name, the type sniffed from the bytes, the size and, for images, the
// dimensions. Two users who upload the same bytes get two media rows and
// share one object.
//
// An upload is first written to a spool file on local disk while it is
// hashed and measured, so no request holds a file in memory. Nothing
// reaches the object store or the database unless the whole file arrived
// within the size cap and the uploader's quota.
//
// # Visibility
//
// A user may read a media file they uploaded, or one attached to a live
// message in a channel where they may read the history. For everyone
// else the service returns ErrNotFound, as for an id that does not exist.
//
// # Collection
//
// [Service.Collect] removes media rows that no live message references
// once they are older than the grace period: abandoned uploads and the
// attachments of deleted messages. Deleting a channel counts as deleting
// its messages. Then it removes the objects that no media row names. The database counts references per object and marks an object
// as deleting before removing it, so an upload that races the collector
// either keeps the object or stores it again.
//
// # Concurrency
//
// A Service is safe for concurrent use. Thumbnail decodes share a memory
// budget: a decode waits until its share is free, and an image whose
// decoded pixels alone exceed the budget gets no thumbnail.
package media
