"""The kernel at the ground: roles and who may do what, the Conflict refusal, the API's error
answers and the admin's bases. It imports none of our apps; every app may import it."""
