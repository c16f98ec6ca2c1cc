/**
 * Input of `payment-methods`, validated with zod. Messages never contain the submitted value:
 * a card number must not reach an error answer or a log.
 *
 * @module
 */
import { z } from "zod";
import { type CardBrand, cardBrand } from "./card.ts";
import { cardNumberSchema } from "./card_number.ts";

/** A new card as submitted, after validation. */
export interface NewCard {
  /** 13..19 digits as its brand issues them, Luhn-valid. Secret. */
  number: string;
  brand: CardBrand;
  last4: string;
  exp_month: number;
  exp_year: number;
  holder_name: string;
}

/**
 * Schema of `POST /payment-methods` for the clock `now`: the card must not have expired
 * (a card is valid through the last day of its expiry month, UTC).
 */
export function newCardSchema(now: Date) {
  return z.object({
    number: cardNumberSchema,
    exp_month: z.int({ error: "expected an integer month 1..12" }).min(1, "expected 1..12")
      .max(12, "expected 1..12"),
    exp_year: z.int({ error: "expected a four-digit year" }).min(2000, "expected a four-digit year")
      .max(2199, "expected a four-digit year"),
    holder_name: z.string({ error: "expected the name on the card" }).trim()
      .min(1, "expected the name on the card").max(100, "at most 100 characters")
      .regex(/^[\p{L}\p{M}][\p{L}\p{M} .'-]*$/u, "letters, spaces and . ' - only"),
  }).strict().superRefine((card, ctx) => {
    const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
    if (card.exp_year * 12 + (card.exp_month - 1) < current) {
      ctx.addIssue({ code: "custom", path: ["exp_year"], message: "the card has expired" });
    }
  }).transform((card): NewCard => ({
    ...card,
    brand: cardBrand(card.number),
    last4: card.number.slice(-4),
  }));
}

/** Body of `POST /payment-methods/<id>/reveal`: whose card the booking flow expects. */
export const revealSchema = z.object({
  user_id: z.uuid("expected the owner's user id (a UUID)"),
}).strict();

/** A payment method id in a path. */
export const paymentMethodId = z.uuid("expected a payment method id (a UUID)");
