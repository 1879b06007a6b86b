-- Recycling (issue 23): a contact handed off again is matched, by email,
-- to the lead of theirs that went back to Marketing last, so the new card
-- opens with that history and the lead can go back to its previous owner.
CREATE INDEX leads_returned_contact_email ON leads (contact_email, closed_at DESC NULLS LAST, id DESC)
    WHERE state = 'returned_to_marketing';
